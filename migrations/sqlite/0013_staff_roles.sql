-- One role per account instead of a staff flag: customer, usher, box_office, manager or
-- admin (each includes the one before it). Today's staff had every right, so they become
-- admins. The flag goes, so that nothing can disagree with the role.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'customer';
UPDATE users SET role = 'admin' WHERE is_staff = 1;
ALTER TABLE users DROP COLUMN is_staff;
-- The users page filters staff, and the role matrix test looks accounts up by role.
CREATE INDEX users_role ON users (role);
