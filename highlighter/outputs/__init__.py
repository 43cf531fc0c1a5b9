"""What tagging produces and how it is written and read back: events and their one reader, the result of an
input, score curves and their files, every time format, the writers and the plot."""
