"""nomadic's command line: click commands, one package per noun and one module per verb.

The entry point is :func:`nomadic.cli.main.main`; commands reach agents only through
:mod:`nomadic.api`.
"""
