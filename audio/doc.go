// Package audio says a ticket call aloud: "numer A sto dwadzieścia trzy,
// stanowisko numer pięć" after a two-tone chime, in Polish, English,
// Lithuanian, Russian or Ukrainian.
//
// An announcement is composed from short preloaded clips of a voice pack (a
// folder of WAV files and a manifest.json), joined with natural gaps; nothing
// is synthesised at run time except the chime. The numbers 0-999 are said as
// numerals in correct grammar for each language, the ticket's prefix letter as
// that language names it, and the counter word comes from the office config.
//
// The pieces:
//   - [Voices] holds the loaded packs; [Voices.Compose] turns a [Call] into an
//     [Announcement] (the words and their PCM) without any sound device.
//   - [Announcer] queues calls and plays them one after another through a
//     [Sink]: none overlap, none are lost, calls that wait are said back to
//     back with one chime, and the volume follows a [volume.Schedule]. It
//     reports each call once it has been heard to its end
//     ([AnnouncerOptions].OnSaid), so a caller can record it then.
//   - [OtoSink] is the real sink: an Oto v3 context (one per process).
//   - [CheckPack] lists what is missing or malformed in a pack
//     (kioskctl voice-check).
//
// The package knows no network and no queue types; the hall display turns a
// queue event into a [Call].
package audio
