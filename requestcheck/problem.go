package requestcheck

import "github.com/gatehouse/gatehouse/problem"

// refuse is a 400 invalid_request about the request itself.
func refuse(reason, message string) *problem.Problem {
	return problem.Invalid(reason, message)
}
