"""Qt-side helpers shared by the four module panels (never imported by a Lib package).

``ModuleWidgetBase`` holds what every TME Monitor panel does the same way: the parameter-node
lifecycle (initialise, enter/exit, scene close, connect/disconnect the GUI), running work with
a progress bar and a Cancel button, disabling the buttons that start work while it runs, and
showing errors in a dialog with a clear message.
"""
from .module_widget import ModuleWidgetBase  # noqa: F401
