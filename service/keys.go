package service

import (
	"cmp"
	"time"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

// MinAssertionOverlap is the shortest overlap a rotation accepts: a
// replaced key must stay published longer than an assertion it signed
// lives (a minute) plus a verifier's JWKS cache (a minute).
const MinAssertionOverlap = 2 * time.Minute

// AssertionKeys lists the identity-assertion keys, oldest first, without
// their private halves.
func (s *Service) AssertionKeys() ([]api.AssertionKey, error) {
	keys, err := s.Store.AssertionKeys()
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]api.AssertionKey, 0, len(keys))
	for _, k := range keys {
		a := api.AssertionKey{KeyID: k.ID, Alg: k.Alg, CreatedAt: k.CreatedAt, Published: k.Published(now)}
		if !k.RetiredAt.IsZero() {
			a.RetiredAt, a.PublishUntil = &k.RetiredAt, &k.PublishUntil
		}
		out = append(out, a)
	}
	return out, nil
}

// RotateAssertionKey makes a new assertion key of req.Alg current; the
// replaced one stays published for req.Overlap.
func (s *Service) RotateAssertionKey(req api.RotateAssertionKeyRequest, actor authstore.Actor) (string, error) {
	alg := cmp.Or(req.Alg, authstore.AlgEdDSA)
	if err := authstore.ValidateAssertionAlg(alg); err != nil {
		return "", problem.Wrap(problem.KindInvalid, err)
	}
	overlap := authstore.DefaultAssertionOverlap
	if req.Overlap != "" {
		d, err := time.ParseDuration(req.Overlap)
		if err != nil || d < MinAssertionOverlap {
			return "", problem.Errorf(problem.KindInvalid, "overlap %q: want a duration of at least %s, such as 24h", req.Overlap, MinAssertionOverlap)
		}
		overlap = d
	}
	k, err := s.Store.RotateAssertionKey(alg, overlap, actor)
	if err != nil {
		return "", err
	}
	return k.ID, nil
}
