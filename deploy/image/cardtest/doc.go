// Package cardtest boots the device's SD card image (make image) in qemu
// against a queue server on the host and checks what a technician would:
// the pairing code on the screen, the device approved, a call on the hall.
// It runs only when NUMEREK_IMAGE names the image (make image-test); plain
// go test skips it.
package cardtest
