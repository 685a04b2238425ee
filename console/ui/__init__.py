"""The Textual console: app, panes, frame pump. The only package that imports Textual."""
