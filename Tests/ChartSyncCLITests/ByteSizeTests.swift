@testable import chartsync
import Testing

/// `--split-size` values: units, the FAT32 meaning of `4G`, and the 64-bit limit.
@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("1", 1), ("1048576", 1_048_576), ("64K", 65_536), ("64k", 65_536), ("700M", 734_003_200),
        ("4G", 4_294_967_295), ("4g", 4_294_967_295), ("4096M", 4_294_967_295), ("5G", 5_368_709_120),
        ("1T", 1_099_511_627_776), ("8388607T", 9_223_370_937_343_148_032), ("9223372036854775807", Int64.max),
    ] as [(String, Int64)])
    func sizes(_ text: String, _ bytes: Int64) {
        #expect(ByteSize(argument: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "0", "0K", "-1", "-1K", "K", "1.5G", "4Q", "4GiB", "8388608T", "9999999999T", "9223372036854775808"])
    func notSizes(_ text: String) {
        #expect(ByteSize(argument: text) == nil)
    }
}
