"""Console themes: Textual Theme objects with trading colour variables, and shared TCSS."""
