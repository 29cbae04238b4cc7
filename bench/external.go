package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// extContender runs a program that hosts both ends itself (the C program, node)
// and reads its one-line report.
type extContender struct {
	name string
	argv []string // program and leading arguments
	pki  *pki
	aead bool // the program has an aead mode
}

func (e *extContender) Name() string { return e.name }

func (e *extContender) common(w workload) []string {
	return []string{"-cert", e.pki.certFile, "-key", e.pki.keyFile, "-ca", e.pki.caFile,
		"-version", w.version, "-cipher", w.cipher}
}

func (e *extContender) Throughput(w workload, dir string, n int64, chunk, read int) (result, error) {
	args := append([]string{"throughput"}, e.common(w)...)
	args = append(args, "-bytes", strconv.FormatInt(n, 10), "-chunk", strconv.Itoa(chunk), "-read", strconv.Itoa(read), "-dir", dir)
	return e.run(args)
}

func (e *extContender) Handshakes(w workload, n int) (result, error) {
	args := append([]string{"handshake"}, e.common(w)...)
	args = append(args, "-count", strconv.Itoa(n))
	return e.run(args)
}

func (e *extContender) RoundTrips(w workload, n, reply int) (result, error) {
	args := append([]string{"rr"}, e.common(w)...)
	args = append(args, "-count", strconv.Itoa(n), "-reply", strconv.Itoa(reply))
	return e.run(args)
}

func (e *extContender) AEAD(n int64, chunk int) (result, error) {
	if !e.aead {
		return result{}, errNoAEAD
	}
	return e.run([]string{"aead", "-bytes", strconv.FormatInt(n, 10), "-chunk", strconv.Itoa(chunk)})
}

func (e *extContender) run(args []string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	argv := append(append([]string{}, e.argv...), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s: %v: %s", e.name, err, strings.TrimSpace(stderr.String()))
	}
	r, err := parseReport(strings.TrimSpace(string(out)))
	r.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return r, err
}

// parseReport reads "cipher=X version=Y bytes=N seconds=S" (or handshakes=N,
// roundtrips=N).
func parseReport(line string) (result, error) {
	var r result
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return r, fmt.Errorf("bad report %q", line)
		}
		var err error
		switch k {
		case "cipher":
			r.cipher = v
		case "version":
			r.version = v
		case "bytes":
			r.bytes, err = strconv.ParseInt(v, 10, 64)
		case "handshakes":
			r.handshakes, err = strconv.Atoi(v)
		case "roundtrips":
			r.roundtrips, err = strconv.Atoi(v)
		case "seconds":
			r.seconds, err = strconv.ParseFloat(v, 64)
		}
		if err != nil {
			return r, fmt.Errorf("bad report %q: %v", line, err)
		}
	}
	if r.seconds <= 0 {
		return r, fmt.Errorf("bad report %q", line)
	}
	return r, nil
}

// buildC compiles bench/c/sslbench.c against the system OpenSSL into dir.
func buildC(dir string) (string, error) {
	src, err := filepath.Abs(filepath.Join("c", "sslbench.c"))
	if err != nil {
		return "", err
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libssl", "libcrypto").Output()
	if err != nil {
		return "", fmt.Errorf("pkg-config libssl libcrypto: %w", err)
	}
	bin := filepath.Join(dir, "sslbench")
	args := append([]string{"-O2", "-Wall", "-o", bin, src}, strings.Fields(string(flags))...)
	args = append(args, "-lpthread")
	cmd := exec.Command("gcc", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("gcc: %w", err)
	}
	return bin, nil
}
