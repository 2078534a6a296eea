package main

// The targets the report checks, and what each benchmark measures.

// targetsIntro introduces the targets table.
const targetsIntro = "From the requirements: a 1 GiB upload stored at no less than half the speed of `dd` writing the same bytes to the same disk, with bounded memory; 500 suppliers bidding with a 1 MB document within 60 seconds with no bid lost, no server error and p99 under 1 s; the signed-in pages on the national data set answering 50 users at once with p99 under 100 ms and at least a quarter of a bare handler's throughput; a role check with 100,000 role assignments under 100 µs at p99; start-up under 1 s; under 256 MiB of memory per instance under load; and the national exit dashboard with p99 under 100 ms. Each figure is measured beside its baseline in the same run; with several runs the worst counts."

// pageRatioVsBare describes each signed-in page's throughput target.
const pageRatioVsBare = "The same page's requests per second ÷ a bare Echo handler rendering the same page template from the same data for the same clients"

var targets = []target{
	{
		Bench: "BenchmarkUpload1GiB", Unit: "peak-heap-growth-MiB",
		What: "Peak Go heap growth while a 1 GiB upload is stored", Need: "under 64 MiB",
		Met: func(v float64) bool { return v < 64 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB",
	},
	{
		Bench: "BenchmarkUpload1GiB", Unit: "ratio-vs-dd",
		What: "Store speed ÷ dd speed, same bytes, same disk, same run", Need: "at least 0.5",
		Met: func(v float64) bool { return v >= 0.5 }, Worse: func(a, b float64) bool { return a < b },
		Context: []string{"store-MB/s", "dd-MB/s"},
	},
	{
		Bench: "BenchmarkUpload1GiB", Unit: "rss-growth-MiB",
		What: "Peak resident memory (RSS) growth of the process", Need: "under 64 MiB",
		Met: func(v float64) bool { return v < 64 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB", Info: true,
	},
	{
		Bench: "BenchmarkBidRushHTTP500", Unit: "lost",
		What: "Bids lost when 500 signed-in suppliers upload a 1 MB document and submit through the HTTP server within 60 s (PostgreSQL)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
	},
	{
		Bench: "BenchmarkBidRushHTTP500", Unit: "server-errors",
		What: "Server errors (status 500 or above) in the same rush", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
	},
	{
		Bench: "BenchmarkBidRushHTTP500", Unit: "errors",
		What: "Suppliers who did not get a receipt in the same rush (any unexpected response)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
	},
	{
		Bench: "BenchmarkBidRushHTTP500", Unit: "p99-ms",
		What: "p99 of a supplier's whole deadline sequence in the same rush (baseline: the same rows inserted directly)", Need: "under 1 s",
		Met: func(v float64) bool { return v < 1000 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "submit-p99-ms", "baseline-p99-ms", "p99-vs-baseline"},
	},
	{
		Bench: "BenchmarkBidRushHTTP500", Unit: "rss-peak-MiB",
		What: "Peak resident memory of the process during the rush (portal and its 500 clients)", Need: "under 256 MiB",
		Met: func(v float64) bool { return v < 256 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB", Context: []string{"heap-peak-MiB"},
	},
	{
		Bench: "BenchmarkSignedInPages/dashboard", Unit: "p99-ms",
		What: "Signed-in dashboard (/) on the national data set, 50 users at once: p99", Need: "under 100 ms",
		Met: func(v float64) bool { return v < 100 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/dashboard", Unit: "ratio-vs-bare",
		What: pageRatioVsBare, Need: "at least 0.25",
		Met: func(v float64) bool { return v >= 0.25 }, Worse: func(a, b float64) bool { return a < b },
		Context: []string{"req/s", "bare-req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/competitions", Unit: "p99-ms",
		What: "Signed-in competition list on the national data set, 50 users at once: p99", Need: "under 100 ms",
		Met: func(v float64) bool { return v < 100 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/competitions", Unit: "ratio-vs-bare",
		What: pageRatioVsBare, Need: "at least 0.25",
		Met: func(v float64) bool { return v >= 0.25 }, Worse: func(a, b float64) bool { return a < b },
		Context: []string{"req/s", "bare-req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/bids", Unit: "p99-ms",
		What: "Signed-in bid list of an opened competition on the national data set, 50 users at once: p99", Need: "under 100 ms",
		Met: func(v float64) bool { return v < 100 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/bids", Unit: "ratio-vs-bare",
		What: pageRatioVsBare, Need: "at least 0.25",
		Met: func(v float64) bool { return v >= 0.25 }, Worse: func(a, b float64) bool { return a < b },
		Context: []string{"req/s", "bare-req/s"},
	},
	{
		Bench: "BenchmarkSignedInPages/competitions", Unit: "rss-peak-MiB",
		What: "Peak resident memory of the process serving the pages (portal and its 50 clients)", Need: "under 256 MiB",
		Met: func(v float64) bool { return v < 256 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " MiB", Context: []string{"heap-peak-MiB"},
	},
	{
		Bench: "BenchmarkAllowed100k/sqlite", Unit: "p99-ns",
		What: "One role check with 100,000 role assignments (SQLite): p99", Need: "under 100 µs",
		Met: func(v float64) bool { return v < 100000 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ns", Context: []string{"p50-ns", "heap-MiB", "reload-ms"},
	},
	{
		Bench: "BenchmarkStartup/sqlite", Unit: "startup-ms",
		What: "Start-up with migrations current (SQLite): database checked, portal built, first request answered", Need: "under 1 s",
		Met: func(v float64) bool { return v < 1000 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms",
	},
	{
		Bench: "BenchmarkAllowed100k/postgres", Unit: "p99-ns",
		What: "One role check with 100,000 role assignments (PostgreSQL): p99", Need: "under 100 µs",
		Met: func(v float64) bool { return v < 100000 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ns", Context: []string{"p50-ns", "heap-MiB", "reload-ms"},
	},
	{
		Bench: "BenchmarkStartup/postgres", Unit: "startup-ms",
		What: "Start-up with migrations current (PostgreSQL): database checked, portal built, first request answered", Need: "under 1 s",
		Met: func(v float64) bool { return v < 1000 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms",
	},
	{
		Bench: "BenchmarkExitDashboardNational", Unit: "p99-ms",
		What: "National exit dashboard, p99 of 300 signed-in requests with every trust, 765 deployments and 5,000 contracts (PostgreSQL)", Need: "under 100 ms",
		Met: func(v float64) bool { return v < 100 }, Worse: func(a, b float64) bool { return a > b },
		Suffix: " ms", Context: []string{"p50-ms", "max-ms"},
	},
	{
		Bench: "BenchmarkBidRush200", Unit: "lost", Info: true,
		What: "Bids lost when 200 suppliers store a 1 MB document and submit through the services within 10 s (PostgreSQL, no HTTP)", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
		Context: []string{"p50-ms", "p99-ms"},
	},
	{
		Bench: "BenchmarkBidRush200", Unit: "errors",
		What: "Errors in the same rush through the services", Need: "0",
		Met: func(v float64) bool { return v == 0 }, Worse: func(a, b float64) bool { return a > b },
		Info: true,
	},
}

const measured = `Each figure comes from ` + "`go test -bench`" + `; the tables list every metric
a benchmark reported, one column per run.

**BenchmarkUpload1GiB** (internal/documents) stores a 1 GiB PDF ("%PDF-1.7"
header, an AES-CTR key stream that nothing can compress or deduplicate,
"%%EOF") through ` + "`documents.Service.Put`" + ` exactly as an upload is stored:
name and type checks, organisation quota, SHA-256, tink streaming
AES-256-GCM encryption, the Local backend (temporary file, fsync, rename,
directory fsync), then the database record and its audit entry in SQLite.
The input comes from an in-memory generator. In every iteration, in the same
temporary folder, ` + "`dd if=<the same 1 GiB> of=<file> bs=1M conv=fsync`" + ` writes
the same bytes: its input file is made once beforehand and read from the
page cache, and conv=fsync makes dd pay the durability cost the store pays.
dd and the store take turns going first, and each timed write starts after
` + "`sync`" + ` and a 5 s pause, so both find the machine in the same state (on a
virtual machine with free page reporting, memory freed by removing the last
output goes back to the host about 2 s later, and writing into such memory
costs several times more kernel time).

- ns/op and MB/s: the store, mean over the iterations (MB = 10^6 bytes).
- store-MB/s, dd-MB/s: the median iteration of each.
- ratio-vs-dd: store speed ÷ dd speed within each iteration, median.
- peak-heap-growth-MiB: Go heap objects (runtime/metrics), sampled every
  10 ms during the upload, less the heap after a GC just before it; the worst
  iteration.
- rss-growth-MiB: the process's peak resident set (VmHWM, reset before each
  upload, and VmRSS sampled every 10 ms) less the resident set just before
  the upload; the worst iteration.
- B/op, allocs/op: allocations during the timed uploads.

The store needs the CPU for SHA-256 and AES-GCM, both on one goroutine,
where dd needs almost none, so other work on the machine lowers ratio-vs-dd:
the log lines give the load average before and after.

**BenchmarkBidRushHTTP500** (internal/web) runs the whole portal on
PostgreSQL (it is skipped without PORTAL_TEST_DATABASE_URL) and its HTTP
server on loopback: a live framework lot with 500 appointed suppliers, and a
published mini-competition inviting them. Each supplier signs in through the
development OpenID provider and has its bid drafted beforehand (answers,
prices per buying trust, declarations). Then, each starting at a random
moment within the same 60 seconds, it does what its browser does at the
deadline: opens the document library, uploads a 1 MB PDF of random bytes
(multipart POST, encrypted into the document store), opens the bid's
documents task and attaches it, opens check your answers and submits, and is
sent to its receipt. The baseline, in the same run and the same database:
the same number of rows (a 1 MB document row and a bid row each) inserted
directly with plain INSERTs from a Go loop of concurrent workers, spread
over the same 60 seconds.
The process's garbage collector is set as ` + "`portal serve`" + ` sets an
instance's (PORTAL_MEMORY_LIMIT, 192 MiB unless set: Go's soft memory limit,
and collection half as often as Go's default below it).

- p50-ms, p99-ms, max-ms: how long each supplier waited for those six
  requests together; submit-p50-ms, submit-p99-ms: the submit alone.
- baseline-p50-ms, baseline-p99-ms: one direct insert of the same rows;
  p99-vs-baseline: the portal's p99 over the baseline's.
- lost: suppliers without a sealed bid afterwards (counted in the tender
  box); server-errors: responses with status 500 or above; errors:
  suppliers for whom any request failed or answered unexpectedly. All must
  be 0, or the benchmark fails.
- rss-peak-MiB, heap-peak-MiB: the process's resident memory and Go heap
  in use, sampled every 50 ms during the rush. The process holds the 500
  clients and their request bodies as well as the portal, so this is an
  upper bound of one instance's memory.
- rush-s: from the first start to the last receipt.

**BenchmarkSignedInPages** (internal/web) loads the national data set
(` + "`portal seed --scale national --seed 1`" + `: 2,000 mini-competitions, 20,000
bids, 5,000 contracts, a million audit entries) into PostgreSQL, signs in 50
trust procurement leads through the development provider (the leads of the
50 trusts leading the most competitions, each with an opened competition of
its own), and has all 50 request the same page at once until 3,000 requests
have been made: dashboard (/), competition list (/competitions) and the
opened bids of the user's competition (/competitions/:id/bids). The
baseline, in the same run: a bare Echo handler (no middleware, session,
database or authorisation work) on another loopback port serving the same
layout to the same 50 clients: it renders the same page template from the
very data the portal rendered each user's page from. A second, static
baseline serves the bytes each user was sent.
The garbage collector is set as for the rush, for the baselines too (they
run in the same process).

- p50-ms, p99-ms, req/s: the portal; bare-p50-ms, bare-p99-ms, bare-req/s:
  the bare handler; ratio-vs-bare: the portal's requests per second over
  the bare handler's; static-req/s and ratio-vs-static: the same for the
  static baseline.
- rss-peak-MiB, heap-peak-MiB: as for the rush, sampled while the portal
  served the page (the process also holds the 50 clients).

**BenchmarkAllowed100k** (internal/authz) loads the real policy and
100,000 role assignments (memberships of 100,000 people), on SQLite and
PostgreSQL, and times role checks one by one over random people,
organisations, objects and actions, allowed and refused, as the pages ask
them.

- p50-ns, p99-ns: one check; ns/op, B/op, allocs/op: the mean.
- heap-MiB: the Go heap the loaded rules and assignments hold.
- reload-ms: loading all 100,000 assignments again (as every instance does
  after a role change).

**BenchmarkStartup** (cmd/portal) starts the portal on a database whose
migrations are current and demo data loaded (SQLite, and PostgreSQL when
set): opening and checking the database, building the whole portal, and
answering its first request to /readyz on a loopback port.

- startup-ms: from the start to that first answer.

**BenchmarkBidRush200** (internal/competition) is a rush below the HTTP
layer, for comparison: the services called directly on PostgreSQL. Each of
200 suppliers, starting at a random moment within the same 10 seconds,
stores a 1 MB PDF in the encrypted document store, attaches it to a
complete bid, saves the bid's working copy and submits it into the sealed
tender box.

- p50-ms, p99-ms, max-ms: how long each supplier waited for the document,
  the draft and the submission together.
- lost: bids expected less bids sealed; errors: submissions that failed.
  Both must be 0, or the benchmark fails.
- rush-s: from the first start to the last receipt.

**BenchmarkExitDashboardNational** (internal/web) is the national
programme's exit dashboard through the HTTP server on PostgreSQL, signed in
as the national programme viewer, over every open trust in England, the 765
demo deployments with eight weeks of snapshots, and 5,000 contracts. It makes 300 requests one after another, after one to
warm up; each computes every deployment's rating and renders the charts,
tables and first page of the drill-down.

- p50-ms, p99-ms, max-ms: the time of one request. The p99 must stay under
  100 ms.

**BenchmarkImport765** (internal/exit) imports 765 deployments from CSV
(every row checked, one transaction), on SQLite and PostgreSQL.`
