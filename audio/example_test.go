package audio_test

import (
	"fmt"
	"strings"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/voicepacks"
)

// A call said in Polish from the built-in voice packs, composed but not
// played: the words a listener hears, one clip each, and the sound ready
// for a sink (Render puts the chime before it).
func ExampleVoices_Compose() {
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		panic(err)
	}
	a, err := voices.Compose(audio.Call{Lang: "pl", Ticket: "A123", Counter: 5})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(a.Words, " "))
	fmt.Println("missing clips:", len(a.Missing))
	pcm := voices.Render(a)
	fmt.Println("chime, then speech:", pcm.Duration() > a.Speech.Duration())
	// Output:
	// numer A sto dwadzieścia trzy stanowisko numer pięć
	// missing clips: 0
	// chime, then speech: true
}
