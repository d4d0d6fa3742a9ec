import ArgumentParser

/// `--json`: the result on stdout as one JSON document (sorted keys) instead of text.
struct OutputOptions: ParsableArguments {
    /// Whether to print JSON.
    @Flag(name: .customLong("json"), help: "Print the result as JSON.")
    var json = false
}
