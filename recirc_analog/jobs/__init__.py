"""Jobs behind the command line: each runs one experiment and writes its output folder."""
