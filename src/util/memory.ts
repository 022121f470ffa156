// The process's high-water mark of resident memory, which jobs report so that a user
// can size the machine a run needs.

/** the peak resident memory of this process so far, in bytes */
export const peakMemory = (): number => process.resourceUsage().maxRSS * 1024;
