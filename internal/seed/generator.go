package seed

import (
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/nhsprocure/portal/internal/orgs"
	"github.com/nhsprocure/portal/internal/sealed"
)

// generator carries the random source and what earlier stages made, so
// later stages can refer to it.
type generator struct {
	rnd    *rand.Rand
	now    time.Time
	sc     Scale
	issuer string
	seal   *sealed.Service
	counts Counts

	trusts    []orgs.Organisation
	byRegion  map[string][]int // region code -> indexes into trusts
	suppliers []orgs.Organisation
	// leadOf is the user ID of each organisation's lead (trust lead,
	// consortium lead or supplier user), by organisation ID.
	leadOf     map[string]string
	consortia  []consortium
	lots       []liveLot
	comps      []awardable
	subjectSeq int
	people     []person
	// objects are the IDs of what was made, by audit object type, for the
	// history to refer to.
	objects map[string][]string
}

// made remembers an object for the history.
func (g *generator) made(objectType, id string) {
	if g.objects == nil {
		g.objects = map[string][]string{}
	}
	g.objects[objectType] = append(g.objects[objectType], id)
}

type consortium struct {
	org     orgs.Organisation
	members []string // trust IDs
}

// liveLot is a lot of a live framework open to mini-competitions.
type liveLot struct {
	frameworkID, lotID, regime, title string
	buyers                            []string // eligible trust IDs
	liveFrom                          time.Time
	suppliers                         []string // appointed supplier IDs
}

// awardable is an opened competition whose buyers may hold contracts.
type awardable struct {
	id, reference, title, winner string
	buyers                       []string
	closed                       time.Time
}

// id draws a version 4 UUID from the seeded source, so IDs repeat for a seed.
func (g *generator) id() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], g.rnd.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rnd.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuid.UUID(b).String()
}

// pick returns one of xs.
func pick[T any](g *generator, xs []T) T { return xs[g.rnd.IntN(len(xs))] }

// sample returns n distinct elements of xs (all of them when n is larger),
// in random order.
func sample[T any](g *generator, xs []T, n int) []T {
	idx := g.rnd.Perm(len(xs))
	if n > len(idx) {
		n = len(idx)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = xs[idx[i]]
	}
	return out
}

// between returns a time uniformly between from and to.
func (g *generator) between(from, to time.Time) time.Time {
	d := to.Sub(from)
	if d <= 0 {
		return from
	}
	return from.Add(time.Duration(g.rnd.Int64N(int64(d)))).Truncate(time.Second)
}

// day is midnight UTC of t's date.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }
