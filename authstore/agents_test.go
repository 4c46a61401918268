package authstore

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRegisterAgent(t *testing.T) {
	s, _ := openTest(t, Options{})
	actor := Actor{Kind: ActorRegistration, IP: "203.0.113.7"}
	key := NewPAT{Prefix: "kp_", Name: "registration", Scopes: []string{"wiki:read"},
		ExpiresAt: time.Now().Add(24 * time.Hour), CreatedVia: ViaRegister}

	tok, u, p, err := s.RegisterAgent(NewUser{Login: "Crawler-7", Kind: KindHuman, Tier: "free", Scopes: []string{"wiki:read"}}, key, actor)
	if err != nil {
		t.Fatal(err)
	}
	if u.Kind != KindAgent || u.Login != "crawler-7" || u.Tier != "free" {
		t.Errorf("user %+v: want an agent crawler-7 of tier free", u)
	}
	if p.UserID != u.ID || p.CreatedVia != ViaRegister {
		t.Errorf("token %+v: want owner %s, created via register", p, u.ID)
	}
	vp, vu, err := s.VerifyPAT(tok, "")
	if err != nil || vp.ID != p.ID || vu.ID != u.ID {
		t.Fatalf("the registered key does not verify: %v", err)
	}
	events, err := s.Audit(u.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
		if e.Actor.Kind != ActorRegistration || e.Actor.UserID != u.ID || e.Actor.IP != "203.0.113.7" {
			t.Errorf("event %s: actor %+v", e.Action, e.Actor)
		}
	}
	if strings.Join(actions, ",") != ActionTokenCreated+","+ActionUserCreated {
		t.Errorf("audit trail %v: want the token and the user created", actions)
	}

	t.Run("a taken login writes nothing", func(t *testing.T) {
		before, _ := s.Stats()
		_, _, _, err := s.RegisterAgent(NewUser{Login: "CRAWLER-7", Tier: "free"}, key, actor)
		if !errors.Is(err, ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
		after, _ := s.Stats()
		if after != before {
			t.Errorf("stats %+v after a refused registration, want %+v", after, before)
		}
	})
	t.Run("an invalid login or key writes nothing", func(t *testing.T) {
		before, _ := s.Stats()
		if _, _, _, err := s.RegisterAgent(NewUser{Login: "no spaces"}, key, actor); err == nil {
			t.Error("a login with a space was accepted")
		}
		bad := key
		bad.Name = ""
		if _, _, _, err := s.RegisterAgent(NewUser{Login: "fine"}, bad, actor); err == nil {
			t.Error("a key without a name was accepted")
		}
		after, _ := s.Stats()
		if after != before {
			t.Errorf("stats %+v, want %+v", after, before)
		}
	})
}

func TestKeyPrefixIsTheHintStem(t *testing.T) {
	tok, err := NewToken("kp_")
	if err != nil {
		t.Fatal(err)
	}
	kp := KeyPrefix("kp_", tok)
	if len(kp) != len("kp_")+4 || !strings.HasPrefix(tok, kp) {
		t.Errorf("KeyPrefix = %q for %q", kp, tok)
	}
	if TokenHint("kp_", tok) != kp+"****" {
		t.Errorf("TokenHint %q is not KeyPrefix %q and the mask", TokenHint("kp_", tok), kp)
	}
	if got := KeyPrefix("kp_", "kp_a"); got != "kp_a" {
		t.Errorf("KeyPrefix of a short string = %q", got)
	}
}
