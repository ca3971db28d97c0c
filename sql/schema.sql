-- chatd database schema: users, friendships, groups and stored offline messages.
-- Idempotent (applied at every start-up), InnoDB, utf8mb4. Each statement ends with ';' at the
-- end of a line and there are no procedures, so a line-based splitter can apply it.
-- Names compare byte for byte (PROTOCOL.md): VARBINARY, because utf8mb4_bin pads trailing spaces
-- ("X" and "X " would collide). 50 bytes is the protocol's limit; the server checks UTF-8.

CREATE TABLE IF NOT EXISTS `user` (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  name        VARBINARY(50) NOT NULL,
  password    VARCHAR(255) NOT NULL COMMENT 'Argon2id string (crypto_pwhash_str format)',
  created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uk_user_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A friendship is stored in both directions, so friends_of(x) is one index range scan.
CREATE TABLE IF NOT EXISTS `friend` (
  userid      BIGINT       NOT NULL,
  friendid    BIGINT       NOT NULL,
  PRIMARY KEY (userid, friendid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS `allgroup` (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  groupname   VARBINARY(50) NOT NULL,
  groupdesc   VARCHAR(200) NOT NULL DEFAULT '',
  created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uk_allgroup_groupname (groupname)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Membership; the key on userid serves groups_of(user).
CREATE TABLE IF NOT EXISTS `groupuser` (
  groupid     BIGINT       NOT NULL,
  userid      BIGINT       NOT NULL,
  grouprole   ENUM('creator', 'normal') NOT NULL DEFAULT 'normal',
  PRIMARY KEY (groupid, userid),
  KEY idx_groupuser_userid (userid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Messages kept for users who were offline; id gives the delivery order.
CREATE TABLE IF NOT EXISTS `offlinemessage` (
  id          BIGINT       NOT NULL AUTO_INCREMENT,
  userid      BIGINT       NOT NULL,
  message     MEDIUMTEXT   NOT NULL COMMENT 'JSON object text',
  created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_offlinemessage_userid_id (userid, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
