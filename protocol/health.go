package protocol

import (
	"context"
	"strings"
	"time"
)

// ReportHealth posts the device's health report (DeviceHealthPath) and
// returns the server's answer.
func (c *Client) ReportHealth(ctx context.Context, r HealthReport) (HealthAck, error) {
	var ack HealthAck
	sent := time.Now()
	_, err := c.send(ctx, "reporting the device's health", "POST", strings.TrimSuffix(c.root, "/api/v1")+DeviceHealthPath, r, &ack)
	if err == nil {
		c.observe(ack.ServerTime, sent, 0)
	}
	return ack, err
}
