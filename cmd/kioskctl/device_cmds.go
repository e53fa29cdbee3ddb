package main

// deviceCommands are the kioskctl subcommands for the device part of a device.
func deviceCommands() []command {
	return nil
}
