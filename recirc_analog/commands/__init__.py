"""One module per ``recirc-analog`` sub-command: ``add_parser(commands)`` and ``run(args)``."""
