import ChartSyncCore

/// `message` with every occurrence of the given secrets (at least 4 characters long) replaced by `***`.
func scrub(_ message: String, secrets: [String]) -> String {
    var message = message
    for secret in secrets where secret.count >= 4 {
        message = message.replacing(secret, with: "***")
    }
    return message
}
