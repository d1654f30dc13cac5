// Exit statuses, from sysexits.h where one fits.
export const EXIT_OK = 0;
/** A run that failed (a collector error, samples not delivered, another instance running). */
export const EXIT_FAILURE = 1;
/** EX_USAGE: the command line is wrong. */
export const EXIT_USAGE = 64;
/** EX_CONFIG: the config file is invalid. */
export const EXIT_CONFIG = 78;
