package protocol

import "time"

// System updates of a device made from the Numerek image (issue 13): an
// admin uploads a signed RAUC bundle to the queue server and rolls it out;
// each chosen device is sent a DeviceAction of kind ActionUpdate naming the
// bundle, downloads it from BundlesPath, installs it into the slot it is
// not running, boots it once on trial (the Raspberry Pi firmware's
// tryboot) and keeps it only if kioskd gets healthy there. Every step is in
// the device's HealthReport.System, which the fleet page shows.

// ActionUpdate asks a device to install the bundle in DeviceAction.Update.
// Unlike the other actions it is kept by the server until the device has
// it: a rollout reaches devices that were offline when it started.
const ActionUpdate = "update"

// BundlesPath + "/{sha256}" is where a device downloads a bundle (GET, with
// Range: a download cut off resumes where it stopped).
const BundlesPath = "/api/v1/devices/self/bundles"

// UpdateOrder names the bundle to install.
type UpdateOrder struct {
	// Rollout is the rollout this order belongs to (the fleet page groups
	// devices' progress by it).
	Rollout string `json:"rollout"`
	// Version is the bundle's version (its manifest's update.version).
	Version string `json:"version"`
	// SHA256 is the bundle file's hash, hex; it is also its name under
	// BundlesPath. The device checks the file against it before installing.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// The steps of an update, as a device reports them in UpdateProgress.State.
const (
	UpdateDownloading = "downloading" // Percent of the bundle fetched
	UpdateInstalling  = "installing"  // Percent written to the other slot
	// UpdateRebooting: installed; the device reboots into the new slot on
	// trial.
	UpdateRebooting = "rebooting"
	// UpdateTrial: running the new slot once; it becomes the default when
	// kioskd is healthy (screen drawn, server reached) within the trial.
	UpdateTrial = "trial"
	// UpdateCommitted: the new slot is the default now. Final.
	UpdateCommitted = "committed"
	// UpdateRolledBack: the new slot did not get healthy in time (or did
	// not boot); the device is back on the slot it ran before. Final.
	UpdateRolledBack = "rolled-back"
	// UpdateFailed: the download, the bundle's check or the install
	// failed; nothing changed on the device. Final; Error says why.
	UpdateFailed = "failed"
)

// SystemHealth is the device's system as made from the image: nil in the
// report of a kioskd not running on it (a hand-installed machine).
type SystemHealth struct {
	// Version is the running system's version (/etc/numerek-release).
	Version string `json:"version"`
	// Slot is the slot running now, "A" or "B"; Primary is the one the
	// device boots by default. They differ while a new slot is on trial.
	Slot    string `json:"slot"`
	Primary string `json:"primary"`
	// Update is the latest update's progress, nil if there was none.
	Update *UpdateProgress `json:"update,omitempty"`
}

// UpdateProgress is where a device's latest update stands.
type UpdateProgress struct {
	Rollout string    `json:"rollout"`
	Version string    `json:"version"`
	State   string    `json:"state"`
	Percent int       `json:"percent,omitempty"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}
