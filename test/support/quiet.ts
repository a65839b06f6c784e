// Handlers log one JSON line per event; in tests only warnings and errors are worth reading.
process.env.LOG_LEVEL ??= 'warn';
// Powertools' development mode: readable (indented) log lines, and no metric lines (its default there).
process.env.POWERTOOLS_DEV ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
