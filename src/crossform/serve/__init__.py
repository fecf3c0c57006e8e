"""The model server and what runs beside it: shadow models scored off the request path and
their log (``shadows``), and the shadow report (``report``). Importing this package imports no
web framework: the server's modules import Starlette themselves."""
