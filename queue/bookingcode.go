package queue

// BookingCodeAlphabet is the characters of booking codes, shared by the
// server that makes them and the kiosk keypad that types them: digits and
// capitals without the look-alikes O/0, I/1/L, and U (read as V). It is
// the domain's, not the protocol's: the web pages, the links that carry
// codes and the kiosk's keypad all speak it.
const BookingCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"

// BookingCodeLength is how many characters a booking code has.
const BookingCodeLength = 8
