package service

import (
	"testing"

	"github.com/gatehouse/gatehouse/api"
	"github.com/gatehouse/gatehouse/authstore"
	"github.com/gatehouse/gatehouse/problem"
)

func TestRotateAssertionKey(t *testing.T) {
	t.Parallel()
	s := newTestService(t, testGlobal())
	for _, req := range []api.RotateAssertionKeyRequest{
		{Alg: "HS256"},
		{Overlap: "soon"},
		{Overlap: "1m"}, // shorter than an assertion and a JWKS cache live
	} {
		_, err := s.RotateAssertionKey(req, authstore.AdminActor)
		wantKind(t, err, problem.KindInvalid)
	}
	if keys, _ := s.AssertionKeys(); len(keys) != 0 {
		t.Fatalf("a refused rotation created keys: %v", keys)
	}
	first, err := s.Store.CurrentAssertionKey(authstore.AlgEdDSA)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := s.RotateAssertionKey(api.RotateAssertionKeyRequest{Overlap: "2h"}, authstore.AdminActor)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.AssertionKeys()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v %v", keys, err)
	}
	if keys[0].KeyID != first.ID || keys[0].RetiredAt == nil || !keys[0].Published || keys[1].KeyID != kid || keys[1].RetiredAt != nil {
		t.Errorf("keys %+v", keys)
	}
	if keys[0].PublishUntil.Sub(*keys[0].RetiredAt).Hours() != 2 {
		t.Errorf("overlap %v", keys[0].PublishUntil.Sub(*keys[0].RetiredAt))
	}
}
