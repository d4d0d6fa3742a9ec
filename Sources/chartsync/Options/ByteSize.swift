import ArgumentParser

/// A positive number of bytes as typed on the command line: plain bytes, or a whole number with
/// K, M, G or T (powers of 1024, either case). `4G` means what FAT32 holds: 4 GiB - 1 byte.
struct ByteSize: ExpressibleByArgument {
    /// The size in bytes; always positive.
    let bytes: Int64

    /// The multiplier of each unit letter.
    private static let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]

    /// Reads `text`; nil when it is not a positive whole size or is more than a 64-bit count of
    /// bytes can hold.
    init?(argument text: String) {
        if let last = text.uppercased().last, let unit = Self.units[last] {
            guard let count = Int64(text.dropLast()), count > 0 else { return nil }
            let (size, overflow) = count.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            // "4G" means as much as FAT32 holds: 4 GiB - 1 byte.
            bytes = size == 4 << 30 ? size - 1 : size
        } else {
            guard let count = Int64(text), count > 0 else { return nil }
            bytes = count
        }
    }
}

/// A count of bytes for people: `512 B`, `3.4 KiB`, `12.0 MiB`, `1.50 GiB`.
enum ByteCount {
    /// The count in the largest binary unit that keeps it at least 1.
    static func text(_ bytes: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        return String(format: "%.\(digits)f \(units[unit])", value)
    }
}
