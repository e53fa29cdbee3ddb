package firstboot

// WithoutSecrets is withoutSecrets, for the fuzz target.
var WithoutSecrets = withoutSecrets
