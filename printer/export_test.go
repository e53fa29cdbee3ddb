package printer

// StatusFromState lets the fuzz target read status bytes as Printer does.
var StatusFromState = statusFromState
