"""Recording market data: the file format, the writer and recorder, and the reader."""

from console.record.format import FormatError, Header
from console.record.reader import Damage, Recording, open_recording

__all__ = ["Damage", "FormatError", "Header", "Recording", "open_recording"]
