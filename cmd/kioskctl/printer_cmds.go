package main

// printerCommands are the kioskctl subcommands for the printer part of a device.
func printerCommands() []command {
	return nil
}
