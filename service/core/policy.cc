#include "service/core/policy.h"
