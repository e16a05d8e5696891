// Command nomad-api-schema writes the JSON Schema of the Nomad HTTP API's job
// structures (github.com/hashicorp/nomad/api: Job, TaskGroup, Task and every
// structure they reach), which validates the raw fields of a spec's `nomad:`
// escape hatch. It reflects over the Go types the pinned Nomad builds with, so
// field names, nesting and types are Nomad's own.
//
// Each property carries `x-hcl`: how jobspec2 (Nomad's HCL parser, which decodes
// into these same structs through their `hcl` tags) spells it —
// {"name": "kill_timeout", "kind": "attr" | "block" | "label"}; a property
// without `x-hcl` has no HCL form. `x-duration` marks time.Duration fields
// (nanoseconds in JSON, a Go duration string in HCL).
//
// Usage (from the repository root): npm run nomad-api-schema
// which runs: cd scripts/nomad-api-schema && go run . > ../../src/nomad/api-schema.json
// (then `npm run golden` publishes it as jobs/schema/nomad-api.schema.json).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

type ordered struct {
	keys []string
	vals map[string]any
}

func newOrdered() *ordered { return &ordered{vals: map[string]any{}} }

func (o *ordered) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *ordered) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString("{")
	for i, k := range o.keys {
		if i > 0 {
			b.WriteString(",")
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteString(":")
		b.Write(vb)
	}
	b.WriteString("}")
	return []byte(b.String()), nil
}

var (
	durationType = reflect.TypeOf(time.Duration(0))
	timeType     = reflect.TypeOf(time.Time{})
	defs         = map[string]*ordered{}
)

func schemaOf(t reflect.Type) *ordered {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	s := newOrdered()
	switch {
	case t == durationType:
		// Nanoseconds in the API; a Go duration string ("30s") is accepted in specs.
		s.set("type", []string{"integer", "string"})
		s.set("x-duration", true)
		return s
	case t == timeType:
		s.set("type", "string")
		return s
	}
	switch t.Kind() {
	case reflect.Bool:
		s.set("type", "boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s.set("type", "integer")
		if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64 {
			s.set("minimum", 0)
		}
	case reflect.Float32, reflect.Float64:
		s.set("type", "number")
	case reflect.String:
		s.set("type", "string")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			s.set("type", "string")
			s.set("contentEncoding", "base64")
			return s
		}
		s.set("type", "array")
		s.set("items", schemaOf(t.Elem()))
	case reflect.Map:
		s.set("type", "object")
		s.set("additionalProperties", schemaOf(t.Elem()))
	case reflect.Interface:
		// Any JSON value (driver config, autoscaler policy).
	case reflect.Struct:
		define(t)
		s.set("$ref", "#/definitions/"+t.Name())
	default:
		panic(fmt.Sprintf("unsupported kind %s (%s)", t.Kind(), t))
	}
	return s
}

// impliedHCL names fields that carry no `hcl` tag but that jobspec2 fills from
// a block anyway. api.Task.Identity is the task's default workload identity: the
// parser decodes every `identity` block into Identities, then moves the one
// without a name (or named "default") into Identity. Without this entry the
// escape hatch would refuse Identity as having no HCL form, although a plain
// `identity { env = true }` in HCL is exactly that field.
var impliedHCL = map[string]*ordered{
	"Task.Identity": func() *ordered {
		h := newOrdered()
		h.set("name", "identity")
		h.set("kind", "block")
		return h
	}(),
}

func define(t reflect.Type) {
	if _, ok := defs[t.Name()]; ok {
		return
	}
	if t.PkgPath() != "github.com/hashicorp/nomad/api" {
		panic(fmt.Sprintf("struct outside the api package: %s", t))
	}
	d := newOrdered()
	defs[t.Name()] = d
	props := newOrdered()
	addFields(t, props)
	d.set("type", "object")
	d.set("x-go", "api."+t.Name())
	d.set("properties", props)
	d.set("additionalProperties", false)
}

func addFields(t reflect.Type, props *ordered) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n := strings.Split(tag, ",")[0]
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if _, ok := f.Tag.Lookup("json"); !ok {
				addFields(f.Type, props)
				continue
			}
		}
		p := schemaOf(f.Type)
		if h, ok := impliedHCL[t.Name()+"."+f.Name]; ok {
			p.set("x-hcl", h)
		}
		if tag, ok := f.Tag.Lookup("hcl"); ok {
			parts := strings.Split(tag, ",")
			kind := "attr"
			if len(parts) > 1 && parts[1] != "optional" {
				kind = parts[1]
			}
			if parts[0] != "" || kind == "label" {
				h := newOrdered()
				h.set("name", parts[0])
				h.set("kind", kind)
				p.set("x-hcl", h)
			}
		}
		props.set(name, p)
	}
}

func main() {
	define(reflect.TypeOf(api.Job{}))
	version := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == "github.com/hashicorp/nomad/api" {
				version = m.Version
			}
		}
	}
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	all := newOrdered()
	for _, n := range names {
		all.set(n, defs[n])
	}
	root := newOrdered()
	root.set("$schema", "http://json-schema.org/draft-07/schema#")
	root.set("$id", "https://hashiship.dev/schema/nomad-api.schema.json")
	root.set("title", "Nomad API job structures (github.com/hashicorp/nomad/api "+version+", Nomad 1.11.3)")
	root.set("description", "Generated by scripts/nomad-api-schema from the Go structs: the fields a spec's `nomad:` blocks may hold (Job, TaskGroup, Task). x-hcl: the HCL name and kind; x-duration: nanoseconds.")
	root.set("definitions", all)
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(out, '\n'))
}
