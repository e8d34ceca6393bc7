/*
 * seccomp_api.c — alpha annotation values, the seccompProfile field, and their correspondence.
 * Sources are cited on each function in seccomp_api.h.
 */
#include "seccomp_api.h"

#include <string.h>

#include "json.h"

static profile_type type_from_text(const char *t)
{
    if (strcmp(t, "RuntimeDefault") == 0)
        return PROFILE_RUNTIME_DEFAULT;
    if (strcmp(t, "Localhost") == 0)
        return PROFILE_LOCALHOST;
    if (strcmp(t, "Unconfined") == 0)
        return PROFILE_UNCONFINED;
    return PROFILE_NONE;
}

int seccomp_field_read(const cJSON *security_context, seccomp_field *out, const char **why)
{
    memset(out, 0, sizeof *out);
    const cJSON *sp = json_get(security_context, "seccompProfile");
    if (json_is_absent(sp))
        return 0;
    if (!cJSON_IsObject(sp)) {
        *why = "seccompProfile is not an object";
        return -1;
    }
    out->set = true;
    const cJSON *t = json_get(sp, "type");
    if (!json_is_absent(t)) {
        if (!cJSON_IsString(t)) {
            *why = "seccompProfile.type is not a string";
            return -1;
        }
        out->type_text = t->valuestring;
        out->type = type_from_text(t->valuestring);
    }
    const cJSON *lp = json_get(sp, "localhostProfile");
    if (!json_is_absent(lp)) {
        if (!cJSON_IsString(lp)) {
            *why = "seccompProfile.localhostProfile is not a string";
            return -1;
        }
        out->localhost = lp->valuestring;
    }
    return 0;
}

seccomp_annotation seccomp_annotation_parse(const char *value)
{
    seccomp_annotation a = {0};
    if (strcmp(value, SECCOMP_VALUE_RUNTIME) == 0 || strcmp(value, SECCOMP_VALUE_DOCKER) == 0) {
        a.valid = true;
        a.type = PROFILE_RUNTIME_DEFAULT;
    } else if (strcmp(value, SECCOMP_VALUE_UNCONFINED) == 0) {
        a.valid = true;
        a.type = PROFILE_UNCONFINED;
    } else if (strncmp(value, SECCOMP_VALUE_LOCALHOST, strlen(SECCOMP_VALUE_LOCALHOST)) == 0) {
        a.valid = true;
        a.type = PROFILE_LOCALHOST;
        a.localhost = value + strlen(SECCOMP_VALUE_LOCALHOST);
    }
    return a;
}

bool seccomp_field_matches_annotation(const seccomp_field *f, const char *value)
{
    seccomp_annotation a = seccomp_annotation_parse(value);
    if (!a.valid || f->type != a.type)
        return false;
    if (f->type == PROFILE_LOCALHOST)
        return f->localhost && strcmp(f->localhost, a.localhost) == 0;
    return true;
}

const char *profile_type_name(profile_type t)
{
    switch (t) {
    case PROFILE_RUNTIME_DEFAULT:
        return "RuntimeDefault";
    case PROFILE_LOCALHOST:
        return "Localhost";
    case PROFILE_UNCONFINED:
        return "Unconfined";
    case PROFILE_NONE:
        break;
    }
    return "none";
}

cJSON *seccomp_profile_json(profile_type t, const char *localhost)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "type", profile_type_name(t)) ||
        (t == PROFILE_LOCALHOST && !cJSON_AddStringToObject(o, "localhostProfile", localhost))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
