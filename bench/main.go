// Command bench compares nodetls's openssl.Conn with Go's crypto/tls, a plain
// C OpenSSL program (c/sslbench.c) and node's tls (node/tlsbench.js) on the
// same workloads in one run: bulk throughput over loopback TCP with
// AES-128-GCM on TLS 1.3 and TLS 1.2, both directions, and full handshakes
// per second. Contenders are interleaved round by round (the machine is
// shared and noisy); the report gives medians and the ratios nodetls/C and
// nodetls/crypto-tls.
//
//	make bench                     # from the repository root
//	go run . -runs 7 -bytes 2GiB   # from bench/
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nodetls/nodetls/openssl"
)

var workloads = []workload{
	{name: "TLS1.3 AES-128-GCM", version: "1.3", cipher: "TLS_AES_128_GCM_SHA256",
		goName: "TLS_AES_128_GCM_SHA256", goSuite: tls.TLS_AES_128_GCM_SHA256},
	{name: "TLS1.2 AES-128-GCM", version: "1.2", cipher: "ECDHE-ECDSA-AES128-GCM-SHA256",
		goName: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", goSuite: tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
}

// job is one measured line of the report.
type job struct {
	w    workload
	kind string // "c2s", "s2c", "handshake", "rr" or "aead"
}

func (j job) String() string {
	switch j.kind {
	case "c2s":
		return j.w.name + " client→server"
	case "s2c":
		return j.w.name + " server→client"
	case "rr":
		return j.w.name + " round trips"
	case "aead":
		return "AES-128-GCM seal+open, 1 thread"
	}
	return j.w.name + " handshakes"
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func main() {
	runs := flag.Int("runs", 5, "rounds; every contender runs every job once per round")
	size := flag.String("bytes", "1GiB", "bytes per throughput run")
	chunk := flag.Int("chunk", 16384, "bytes per write (and per read, unless -read)")
	readSize := flag.Int("read", 0, "bytes per read in throughput runs (0: -chunk; node reads what arrives)")
	hs := flag.Int("handshakes", 1000, "handshakes per handshake run (0 skips them)")
	only := flag.String("contenders", "nodetls,crypto/tls,C,node", "contenders to run, comma-separated; also nodetls-api (nodetls through package tls: tls.Socket on both ends), nodetls-wrapped (nodetls over a TCP connection wrapped in another type), nodetls+crypto/tls and crypto/tls+nodetls (mixed pairs, client+server)")
	kinds := flag.String("jobs", "c2s,s2c,handshake", "job kinds to run: c2s, s2c (bulk transfer), handshake; also rr (request/response on one connection) and aead (the cipher alone: C's OpenSSL against Go's); see README")
	rts := flag.Int("roundtrips", 20000, "request/response round trips per rr run (0 skips them)")
	reply := flag.Int("reply", 2048, "bytes per reply in rr runs (requests are 64 bytes)")
	versions := flag.String("versions", "1.3,1.2", "TLS versions to run")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of this process (the Go contenders) to this file")
	flag.Parse()
	if *readSize <= 0 {
		*readSize = *chunk
	}
	total, err := parseSize(*size)
	if err != nil {
		fatal(err)
	}

	dir, err := os.MkdirTemp("", "nodetls-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	p, err := makePKI(dir)
	if err != nil {
		fatal(fmt.Errorf("certificates: %w", err))
	}

	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var cs []contender
	if want["nodetls"] {
		cs = append(cs, &goContender{name: "nodetls", setup: nodetlsSetup, pki: p})
	}
	// Mixed pairs (client+server), to tell which end costs what.
	if want["nodetls+crypto/tls"] {
		cs = append(cs, &goContender{name: "nodetls+crypto/tls", setup: mixSetup(nodetlsSetup, gotlsSetup), pki: p})
	}
	if want["crypto/tls+nodetls"] {
		cs = append(cs, &goContender{name: "crypto/tls+nodetls", setup: mixSetup(gotlsSetup, nodetlsSetup), pki: p})
	}
	if want["nodetls-api"] {
		cs = append(cs, &goContender{name: "nodetls-api", setup: nodetlsAPISetup, pki: p})
	}
	if want["nodetls-wrapped"] {
		cs = append(cs, &goContender{name: "nodetls-wrapped", setup: nodetlsWrappedSetup, pki: p})
	}
	if want["crypto/tls"] {
		cs = append(cs, &goContender{name: "crypto/tls", setup: gotlsSetup, pki: p, aead: goAEAD})
	}
	if want["C"] {
		bin, err := buildC(dir)
		if err != nil {
			fatal(err)
		}
		cs = append(cs, &extContender{name: "C", argv: []string{bin}, pki: p, aead: true})
	}
	nodeVersion := ""
	if want["node"] {
		if path, err := exec.LookPath("node"); err != nil {
			fmt.Fprintln(os.Stderr, "bench: node is not installed; running without it")
		} else {
			out, _ := exec.Command(path, "--version").Output()
			nodeVersion = strings.TrimSpace(string(out))
			cs = append(cs, &extContender{name: "node", argv: []string{path, "node/tlsbench.js"}, pki: p})
		}
	}
	if len(cs) == 0 {
		fatal(fmt.Errorf("no contenders selected"))
	}

	var jobs []job
	var kindList []string
	for _, k := range strings.Split(*kinds, ",") {
		kindList = append(kindList, strings.TrimSpace(k))
	}
	for _, w := range workloads {
		if !slices.Contains(strings.Split(*versions, ","), w.version) {
			continue
		}
		for _, k := range kindList {
			if k == "handshake" && *hs == 0 || k == "rr" && *rts == 0 || k == "aead" {
				continue
			}
			jobs = append(jobs, job{w: w, kind: k})
		}
	}
	// The cipher alone is the same for every version: one line.
	if slices.Contains(kindList, "aead") {
		jobs = append(jobs, job{w: workloads[0], kind: "aead"})
	}

	fmt.Printf("nodetls bench: %s, %s per run, %d-byte writes, %d-byte reads, %d handshakes per run, %d round trips of 64 / %d bytes per run, %d rounds\n",
		runtime.Version(), *size, *chunk, *readSize, *hs, *rts, *reply, *runs)
	fmt.Printf("%s (libssl), node %s, GOMAXPROCS %d\n\n", openssl.Version(), nodeVersion, runtime.GOMAXPROCS(0))

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}

	// samples[job][contender] = per-round values (MB/s or handshakes/s);
	// effs the same per CPU-second.
	samples := make([][][]float64, len(jobs))
	effs := make([][][]float64, len(jobs))
	for i := range samples {
		samples[i] = make([][]float64, len(cs))
		effs[i] = make([][]float64, len(cs))
	}
	for round := 0; round < *runs; round++ {
		for ji, j := range jobs {
			// Rotate the order every round so no contender always runs first.
			for k := range cs {
				ci := (k + round + ji) % len(cs)
				c := cs[ci]
				runtime.GC()
				var r result
				var err error
				switch j.kind {
				case "handshake":
					r, err = c.Handshakes(j.w, *hs)
				case "rr":
					r, err = c.RoundTrips(j.w, *rts, *reply)
				case "aead":
					r, err = c.AEAD(total, *chunk)
					if errors.Is(err, errNoAEAD) {
						continue
					}
				default:
					r, err = c.Throughput(j.w, j.kind, total, *chunk, *readSize)
				}
				if err != nil {
					fatal(fmt.Errorf("%s, %s: %w", c.Name(), j, err))
				}
				if err := check(c.Name(), j, r); err != nil {
					fatal(err)
				}
				work := float64(r.handshakes)
				if j.kind == "rr" {
					if r.roundtrips != *rts {
						fatal(fmt.Errorf("%s, %s: %d round trips, want %d", c.Name(), j, r.roundtrips, *rts))
					}
					work = float64(r.roundtrips)
				} else if j.kind != "handshake" {
					if r.bytes != total {
						fatal(fmt.Errorf("%s, %s: moved %d bytes, want %d", c.Name(), j, r.bytes, total))
					}
					work = float64(r.bytes) / 1e6
				}
				v, eff := work/r.seconds, work/r.cpu
				samples[ji][ci] = append(samples[ji][ci], v)
				effs[ji][ci] = append(effs[ji][ci], eff)
				fmt.Fprintf(os.Stderr, "round %d  %-36s %-10s %8.1f/s  %8.1f/cpu-s\n", round+1, j, c.Name(), v, eff)
			}
		}
	}
	fmt.Println("Medians of wall-clock rates: throughput in MB/s (10^6 bytes/s), handshakes/s, round trips/s.")
	report(jobs, cs, samples)
	fmt.Println()
	fmt.Println("Medians of work per CPU-second (user+system, both ends; less sensitive to other load):")
	fmt.Println("MB per CPU-second, handshakes per CPU-second, round trips per CPU-second.")
	report(jobs, cs, effs)
}

// check makes sure a run negotiated what the workload asked for.
func check(name string, j job, r result) error {
	w := j.w
	if j.kind == "aead" {
		if r.cipher != "AES-128-GCM" {
			return fmt.Errorf("%s sealed with %q, want AES-128-GCM", name, r.cipher)
		}
		return nil
	}
	wantCipher, wantVersion := w.cipher, "TLSv1.3"
	if name == "crypto/tls" || strings.HasPrefix(name, "crypto/tls+") { // the client end reports
		wantCipher = w.goName
		wantVersion = "TLS 1.3"
		if w.version == "1.2" {
			wantVersion = "TLS 1.2"
		}
	} else if w.version == "1.2" {
		wantVersion = "TLSv1.2"
	}
	if r.cipher != wantCipher || r.version != wantVersion {
		return fmt.Errorf("%s negotiated %s %s, want %s %s", name, r.version, r.cipher, wantVersion, wantCipher)
	}
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func report(jobs []job, cs []contender, samples [][][]float64) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := []string{"job"}
	idx := map[string]int{}
	for i, c := range cs {
		hdr = append(hdr, c.Name())
		idx[c.Name()] = i
	}
	// C/crypto/tls: how far OpenSSL itself is from crypto/tls on the same job.
	ratios := [][2]string{{"nodetls", "C"}, {"nodetls", "crypto/tls"}, {"nodetls", "node"}, {"C", "crypto/tls"}}
	var have [][2]string
	for _, r := range ratios {
		_, a := idx[r[0]]
		_, b := idx[r[1]]
		if a && b {
			have = append(have, r)
			hdr = append(hdr, r[0]+"/"+r[1])
		}
	}
	fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
	for ji, j := range jobs {
		row := []string{j.String()}
		med := make([]float64, len(cs))
		for ci := range cs {
			med[ci] = median(samples[ji][ci])
			if len(samples[ji][ci]) == 0 {
				row = append(row, "-") // the contender does not run this job
				continue
			}
			row = append(row, fmt.Sprintf("%.0f", med[ci]))
		}
		for _, r := range have {
			a, b := med[idx[r[0]]], med[idx[r[1]]]
			if a == 0 || b == 0 {
				row = append(row, "-")
				continue
			}
			row = append(row, fmt.Sprintf("%.2f", a/b))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
