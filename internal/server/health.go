package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// GetEndpointHealth answers how an endpoint is doing: its breaker state
// and what its newest attempts tell.
func (h *handler) GetEndpointHealth(
	c echo.Context, tenantID TenantID, endpointID EndpointID,
) error {
	if err := checkIDs(tenantID, endpointID); err != nil {
		return err
	}

	health, err := h.store.EndpointHealth(c.Request().Context(), tenantID, endpointID)
	if err != nil {
		return err
	}

	return c.JSON(http.StatusOK, EndpointHealth{
		BreakerState:     EndpointHealthBreakerState(health.BreakerState),
		BreakerChangedAt: timeOrNil(health.BreakerChangedAt),
		LastAttemptAt:    timeOrNil(health.LastAttemptAt),
		LastSuccessAt:    timeOrNil(health.LastSuccessAt),
		FailureStreak:    health.FailureStreak,
	})
}

// timeOrNil returns a pointer to t, or nil when t is zero.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}

	return &t
}
