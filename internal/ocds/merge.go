package ocds

import (
	"encoding/json"
	"fmt"
)

// Merging releases into a compiled release, by the OCDS merge rules: each
// later release's fields override the earlier ones'; objects merge field
// by field; an array of objects that all carry an id merges item by item
// (matched on id, new ones added in order); any other array, and any other
// value, is replaced whole; a null removes the field. The release's own
// id, date and tag are not merged (omitWhenMerged): the compiled release
// gets its own. No maintained Go library does this, and it is small.

// compile merges the releases, oldest first, into the compiled release.
func compile(ocid string, releases []Release) (map[string]any, error) {
	out := map[string]any{}
	for _, r := range releases {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, fmt.Errorf("encode release %s: %w", r.ID, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode release %s: %w", r.ID, err)
		}
		delete(m, "id")
		delete(m, "date")
		delete(m, "tag")
		out = mergeObject(out, m)
	}
	last := releases[len(releases)-1]
	out["ocid"] = ocid
	out["id"] = ocid + "-compiled-" + last.ID[len(ocid)+1:]
	out["date"] = last.Date
	out["tag"] = []any{"compiled"}
	return out, nil
}

// mergeObject merges next into base (which it changes and returns).
func mergeObject(base, next map[string]any) map[string]any {
	for k, v := range next {
		switch nv := v.(type) {
		case nil:
			delete(base, k)
		case map[string]any:
			if bv, ok := base[k].(map[string]any); ok {
				base[k] = mergeObject(bv, nv)
			} else {
				base[k] = mergeObject(map[string]any{}, nv)
			}
		case []any:
			if bv, ok := base[k].([]any); ok && identified(bv) && identified(nv) {
				base[k] = mergeByID(bv, nv)
			} else {
				base[k] = nv
			}
		default:
			base[k] = v
		}
	}
	return base
}

// identified reports whether every item of the array is an object with an
// id.
func identified(list []any) bool {
	for _, it := range list {
		o, ok := it.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := o["id"]; !ok {
			return false
		}
	}
	return true
}

// mergeByID merges the items of next into base by id.
func mergeByID(base, next []any) []any {
	index := map[any]int{}
	for i, it := range base {
		index[it.(map[string]any)["id"]] = i
	}
	for _, it := range next {
		o := it.(map[string]any)
		if i, ok := index[o["id"]]; ok {
			base[i] = mergeObject(base[i].(map[string]any), o)
			continue
		}
		index[o["id"]] = len(base)
		base = append(base, mergeObject(map[string]any{}, o))
	}
	return base
}
