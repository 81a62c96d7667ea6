#include "service/core/answer.h"
