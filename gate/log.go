package gate

import (
	"net/http"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/gatehouse/gatehouse/problem"
)

// LogDenial writes the one log line a denial gets: reason, user and token
// id or hint, the client address ip, and what the caller adds (the rule
// that refused); never a token, cookie or password.
func LogDenial(logger *zap.Logger, r *http.Request, d *problem.Problem, id *Identity, ip string, extra ...zap.Field) {
	level := zapcore.InfoLevel
	if d.Status >= 500 {
		level = zapcore.ErrorLevel
	}
	ce := logger.Check(level, "request denied")
	if ce == nil {
		return
	}
	fields := append([]zap.Field{
		zap.Int("status", d.Status),
		zap.String("reason", d.Reason),
		zap.String("method", r.Method),
		zap.String("path", r.URL.Path),
		zap.String("client_ip", ip),
	}, extra...)
	if id != nil && id.User != nil {
		fields = append(fields, zap.String("user", id.User.Login))
		if id.PAT != nil {
			fields = append(fields, zap.String("token_id", id.PAT.ID))
		}
	}
	if d.Subject != "" {
		fields = append(fields, zap.String("credential", d.Subject))
	}
	ce.Write(fields...)
}
