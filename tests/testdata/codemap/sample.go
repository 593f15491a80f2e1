// Package store keeps key-value pairs in memory.
package store

import (
	"errors"
	"sync"
)

// ErrMissing is returned when a key is absent.
var ErrMissing = errors.New("missing")

// Getter reads values.
type Getter interface {
	Get(key string) (string, error)
}

// Store is a concurrency-safe map.
type Store struct {
	mu   sync.RWMutex
	data map[string]string
}

type Key = string

// New makes an empty Store.
func New() *Store {
	return &Store{data: map[string]string{}}
}

// Get returns the value for key.
func (s *Store) Get(key string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.data[key]
	if !ok {
		return "", ErrMissing
	}
	return v, nil
}

func Map[K comparable, V any](items []K, f func(K) V) []V {
	out := make([]V, 0, len(items))
	for _, item := range items {
		out = append(out, f(item))
	}
	return out
}
