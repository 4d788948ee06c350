/* SPDX-License-Identifier: Apache-2.0 */
#ifndef RK_VERSION_H
#define RK_VERSION_H

/* The upstream RootlessKit release whose contract (flags, files, API) this build follows:
 * printed by --version and --print-semver, returned as "version" by the API. */
#define RK_VERSION	 "3.2.0"
#define RK_VERSION_MAJOR 3
#define RK_VERSION_MINOR 2
#define RK_VERSION_PATCH 0

/* The version of this implementation. */
#define RK_IMPL_VERSION "0.1.0"

#endif
