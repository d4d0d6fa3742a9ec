import ArgumentParser

/// `-v/--verbose`: every step on stderr.
struct VerboseOptions: ParsableArguments {
    /// Whether to show every step.
    @Flag(name: .shortAndLong, help: "Show each step on stderr.")
    var verbose = false
}
