"""The TME Monitor app layer (Qt-free): the longitudinal dashboard, the demo and the ``tme-monitor``
command line, above the technique modules. It discovers the registered techniques
(``TMEMonitorApp.techniques``) and keeps no list of them. Nothing below it (``TMEMonitorLib``,
the ``*ModuleLib`` packages) imports it."""
