package printer_test

import (
	"fmt"
	"time"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
)

// A ticket encoded to ESC/POS for an Epson TM-T20II, then fed to the
// emulator of the same printer, which reads the bytes as the printer
// would and says what came out on paper.
func ExampleEncoder_Ticket() {
	p, err := profiles.Lookup("tm-t20ii")
	if err != nil {
		panic(err)
	}
	enc, err := printer.NewEncoder(p, printer.TextMode).Ticket(printer.Ticket{
		Office:      "Urząd Miasta Starachowice",
		Service:     "Świadczenia rodzinne",
		NumberLabel: "Twój numer",
		Number:      "A123",
		Ahead:       "Przed Tobą: 3 osoby",
		Issued:      "Wydano: 23.11.2026, 09:05",
	})
	if err != nil {
		panic(err)
	}
	// Polish letters go out as text in the printer's code page; a line it
	// cannot print as text is drawn as a picture instead.
	fmt.Println("lines drawn as pictures:", enc.RasterLines())

	emu, err := emulator.New(emulator.Config{Profile: p})
	if err != nil {
		panic(err)
	}
	emu.Receive(nil, enc.Bytes, time.Now())
	emu.Flush()
	for _, t := range emu.Tickets() {
		fmt.Println(t.Text())
		fmt.Println("warnings:", len(t.Warnings))
	}
	// Output:
	// lines drawn as pictures: 0
	// Urząd Miasta Starachowice
	// Świadczenia rodzinne
	// Twój numer
	// A123
	// Przed Tobą: 3 osoby
	// Wydano: 23.11.2026, 09:05
	// warnings: 0
}
