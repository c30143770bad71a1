"""VaxViet's shared kernel: settings, logging and the process that serves the platform."""
