package store_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/nhsprocure/portal/internal/store"
	"github.com/nhsprocure/portal/internal/store/storetest"
)

// heard records the changes a Changes delivers.
type heard struct {
	mu   sync.Mutex
	keys []string
}

func listen(c *store.Changes) *heard {
	h := &heard{}
	c.Subscribe(func(key string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.keys = append(h.keys, key)
	})
	return h
}

func (h *heard) has(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Contains(h.keys, key)
}

// A change announced inside a transaction is heard on this instance once
// the transaction commits (before Tx returns), never when it rolls back;
// one announced outside a transaction is heard at once.
func TestChangesHeardOnCommitOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		h := listen(db.Changes())
		committed := store.ChangedUser("committed")
		err := db.Tx(ctx, func(tx *gorm.DB) error {
			if err := db.Publish(tx, committed); err != nil {
				return err
			}
			if h.has(committed) {
				t.Error("a change was heard before its transaction committed")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !h.has(committed) {
			t.Error("a committed change was not heard by the time Tx returned")
		}

		rolled := store.ChangedSession("rolled-back")
		boom := errors.New("boom")
		err = db.Tx(ctx, func(tx *gorm.DB) error {
			if err := db.Publish(tx, rolled); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx returned %v, want boom", err)
		}
		if h.has(rolled) {
			t.Error("a change in a rolled-back transaction was heard")
		}

		direct := store.ChangedUser("direct")
		if err := db.Publish(db.WithContext(ctx), direct); err != nil {
			t.Fatal(err)
		}
		if !h.has(direct) {
			t.Error("a change outside any transaction was not heard at once")
		}
	})
}

// On PostgreSQL another instance (another pool on the same schema) hears
// a committed change through LISTEN/NOTIFY, only once it commits; it says
// it is live only while it listens, and hears everything as changed when
// it starts and stops listening. An instance on another schema hears
// nothing.
func TestChangesReachOtherInstances(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	url := storetest.URL(t, store.Postgres)
	open := func(url string) *store.DB {
		db, err := store.Open(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a, b, elsewhere := open(url), open(url), open(storetest.URL(t, store.Postgres))
	if b.Changes().Live() {
		t.Fatal("B says it is live before it listens")
	}
	heardB, heardElsewhere := listen(b.Changes()), listen(elsewhere.Changes())
	ctx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { b.Changes().Listen(ctx); close(stopped) }()
	go elsewhere.Changes().Listen(ctx)
	waitUntil(t, "B to listen", func() bool { return b.Changes().Live() && elsewhere.Changes().Live() })
	if !heardB.has(store.AllChanged) {
		t.Error("B did not hear everything as changed when it started listening")
	}

	key := store.ChangedUser("aisha")
	inTx := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Tx(context.Background(), func(tx *gorm.DB) error {
			if err := a.Publish(tx, key); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	time.Sleep(200 * time.Millisecond)
	if heardB.has(key) {
		t.Error("B heard a change before its transaction committed")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "B to hear A's change", func() bool { return heardB.has(key) })
	time.Sleep(200 * time.Millisecond)
	if heardElsewhere.has(key) {
		t.Error("a portal on another schema heard the change")
	}

	stop()
	<-stopped
	if b.Changes().Live() {
		t.Error("B still says it is live after it stopped listening")
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
