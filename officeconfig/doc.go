// Package officeconfig reads the queue server's configuration file (TOML):
// its offices, with their services, counters, opening hours, holidays and
// booking rules, into queue.Office values. Every problem is reported with
// the file, the line and what is wrong, so a wrong config stops start-up
// with a message a technician can act on.
package officeconfig
