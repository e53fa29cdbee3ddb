package main

// audioCommands are the kioskctl subcommands for the audio part of a device.
func audioCommands() []command {
	return nil
}
