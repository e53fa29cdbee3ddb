package escpos

// SampleJobs are short byte streams that touch each family of command the
// parser knows: text and code pages, cuts, raster images, QR codes,
// barcodes, graphics, column images and status requests. They seed the
// fuzz targets of whatever reads ESC/POS (the parser, the emulator).
func SampleJobs() [][]byte {
	return [][]byte{
		[]byte("\x1b@\x1bt\x12Za\xbe\n\x1dV\x42\x00"),
		[]byte("\x1dv0\x00\x02\x00\x02\x00\xff\xff\xff\xff"),
		[]byte("\x1d(k\x04\x001A2\x00\x1d(k\x05\x001P0AB\x1d(k\x03\x001Q0"),
		[]byte("\x1c&\xa5\x88\x1b!\xff\x1d!\x77abc\x1dB\x01x\n\x10\x04\x04"),
		[]byte("\x1bD\x01\x02\x00\x1b*\x21\x02\x00123456\x1dk\x02123\x00"),
		[]byte("\x1d(L\x0c\x000p0\x01\x011\x08\x00\x02\x00\xff\x80\x1d(L\x02\x0002"),
		[]byte("\x1b3\x18\x1b*\x01\x02\x00\x81\x18\n\x1b2\x1d(L\x02\x0002"),
	}
}
