package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// usageError is a bad flag or a bad file: one line on stderr, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// newFlagSet makes a flag set that reports errors instead of printing usage.
func newFlagSet(verb string) *flag.FlagSet {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args; a parse error becomes one clear line.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError(fs, err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// The flag package's messages, which spell flags with one dash.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
	flagBadValue  = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-+([^:]*): (.*)$`)
)

// flagError rewrites a flag package error in this command's terms: the flag
// as --name, and what its value should be.
func flagError(fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		return usagef("unknown flag --%s", m[1])
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return usagef("--%s needs a value", m[1])
	}
	if m := flagBadValue.FindStringSubmatch(msg); m != nil {
		why := m[3]
		if why == "parse error" {
			why = "not a number"
			if f := fs.Lookup(m[2]); f != nil {
				if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					why = "want true or false"
				}
			}
		}
		return usagef("--%s %s: %s", m[2], m[1], why)
	}
	return usagef("%s", msg)
}

// printHelp lists the flags of a verb on w.
func printHelp(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: nodetls %s\n", synopsis)
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		// A `NAME` in the usage text names the flag's value.
		arg, text := flag.UnquoteUsage(f)
		if arg == "bool" || arg == "value" {
			arg = ""
		}
		fmt.Fprintf(w, "  --%-22s %s%s\n", strings.TrimSpace(f.Name+" "+arg), text, def)
	})
}

// readFileFlag reads the file named by a flag; a failure names the flag.
func readFileFlag(flagName, path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s: cannot read %s: %v", flagName, path, bareError(err))
	}
	return b, nil
}

// exitCode reports the error of a verb and returns its exit status: 2 for
// usage errors, 0 for a help request, 1 otherwise.
func exitCode(stderr io.Writer, verb string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "nodetls %s: %s\n", verb, ue.msg)
		return 2
	}
	fmt.Fprintf(stderr, "nodetls %s: %v\n", verb, err)
	return 1
}
