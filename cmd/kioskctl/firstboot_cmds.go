package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/device/growdata"
)

// firstbootCommands are the kioskctl subcommands the device image runs
// at boot.
func firstbootCommands() []command {
	return []command{
		{name: "firstboot", summary: "take the card's numerek.txt (settings kept in --data, secrets out of the card) and apply it to this boot", run: runFirstboot},
		{name: "grow-data", summary: "grow the data partition and its filesystem to the end of the card", run: runGrowData},
	}
}

func runFirstboot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("firstboot", stderr)
	boot := fs.String("boot", "/boot/numerek", "the card's first partition, holding numerek.txt")
	data := fs.String("data", "/data", "the data partition")
	run := fs.String("run", "/run", "where this boot's settings go")
	zoneinfo := fs.String("zoneinfo", "/usr/share/zoneinfo", "the time zone database")
	kioskdUser := fs.String("kioskd-user", "kioskd", "the user kioskd runs as, given the enrolment secret's file (empty: root keeps it)")
	setHostname := fs.Bool("set-hostname", true, "set the running system's host name")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := firstboot.Options{Boot: *boot, Data: *data, Run: *run, Zoneinfo: *zoneinfo,
		Log: slog.New(slog.NewTextHandler(stderr, nil))}
	if *setHostname {
		opts.SetHostname = func(name string) error { return unix.Sethostname([]byte(name)) }
	}
	if *kioskdUser != "" {
		owner, err := lookupOwner(*kioskdUser)
		if err != nil {
			// The network matters more than who reads the secret.
			opts.Log.Error("the enrolment secret stays root's", "err", err)
		}
		opts.Kioskd = owner
	}
	res, err := firstboot.Run(ctx, opts)
	for _, p := range res.Problems {
		fmt.Fprintf(stdout, "%s: %s\n", firstboot.FileName, p.Error())
	}
	if err != nil {
		return err
	}
	switch {
	case len(res.Problems) > 0:
		fmt.Fprintf(stdout, "%s was not taken; the settings kept before are applied\n", firstboot.FileName)
	case res.Changed:
		fmt.Fprintf(stdout, "%s taken and applied\n", firstboot.FileName)
	default:
		fmt.Fprintf(stdout, "%s unchanged; the settings kept are applied\n", firstboot.FileName)
	}
	return nil
}

// lookupOwner is a user's number and primary group's.
func lookupOwner(name string) (*firstboot.Owner, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("looking up the user %s: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return nil, fmt.Errorf("user %s: uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil, fmt.Errorf("user %s: gid %q", name, u.Gid)
	}
	return &firstboot.Owner{UID: uid, GID: gid}, nil
}

func runGrowData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("grow-data", stderr)
	mount := fs.String("mount", "/data", "where the data partition is mounted")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	res, err := growdata.Grow(ctx, growdata.Options{Mount: *mount, Online: true})
	if err != nil {
		return err
	}
	switch {
	case res.GrewExtended || res.GrewPartition:
		fmt.Fprintf(stdout, "grew %s partition %d to %d MiB, and its filesystem\n", res.Disk, res.Partition, res.Sectors/2048)
	default:
		fmt.Fprintf(stdout, "%s partition %d already reaches the end of the card (%d MiB)\n", res.Disk, res.Partition, res.Sectors/2048)
	}
	return nil
}
