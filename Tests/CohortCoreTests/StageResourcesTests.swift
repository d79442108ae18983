import CohortCore
import Testing

@Suite struct StageResourcesTests {
    @Test func medianAndMaximumOfWhatAttemptsUsed() {
        var used = StageResources()
        #expect(used.medianWallSeconds == nil)
        for (wall, peak) in [(3.0, 100), (1.0, 300), (2.0, 200), (10.0, 50)] { used.add(wallSeconds: wall, peakMemoryKiB: Int64(peak)) }
        #expect(used.medianWallSeconds == 2.5)
        #expect(used.maxWallSeconds == 10)
        #expect(used.medianPeakMemoryKiB == 150)
        #expect(used.maxPeakMemoryKiB == 300)
    }
}
